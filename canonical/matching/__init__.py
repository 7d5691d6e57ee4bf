"""Matching: plain functions over plain values, no ORM."""
