"""Infrastructure blocks every service assembles the same way (no domain logic lives here)."""
