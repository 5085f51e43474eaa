"""Demo data for trying the API: `portfolio-api seed --demo`."""
