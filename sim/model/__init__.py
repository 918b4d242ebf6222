"""The model's definition: the parameter declaration, the rules, the state, scenarios and events,
keyed random numbers and the reported outcomes. Both engines build on this package alone."""
