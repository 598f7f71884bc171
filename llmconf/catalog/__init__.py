"""The model catalog: prices, context windows and ratings; costs and lint built on it."""
