"""Pure rule logic: data-quality checks and business-exception predicates over plain values (no ORM)."""
