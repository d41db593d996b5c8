"""One mapping unit per v2 data type group (pure functions over ``Rep`` values)."""
