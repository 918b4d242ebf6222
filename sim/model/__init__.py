"""The model's definition: the parameter declaration, the rules, the state, scenarios and events,
keyed random numbers and the reported outcomes. The engines build on this package alone."""
