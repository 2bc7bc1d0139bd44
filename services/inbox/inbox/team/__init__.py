"""Team work: assignment, the roster for the picker, and the activity trail."""
