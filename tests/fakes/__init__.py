"""Doubles of the platforms Mend talks to, served on loopback for the adapter tests."""
