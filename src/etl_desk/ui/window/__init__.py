"""The window shell: the app start-up, the main window and the helpers it is composed of (file and
export actions, the table's link to the state), the shared analysis job and the background workers."""
