"""Small widgets the main window is assembled from."""
