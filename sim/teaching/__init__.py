"""Teaching: the classroom app (a SolaraViz page over the Mesa engine) and the exercises' keys."""
