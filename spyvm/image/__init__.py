"""Reading Squeak images: format detection, V3 (6502/6504/6505) and Spur (6521)."""
