"""The plan: a frozen value of what apply would change, how it is computed, and saved plans."""
