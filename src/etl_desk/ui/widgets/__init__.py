"""Small widgets shared by every page: the one form builder for field specs, the re-entrancy guard."""
