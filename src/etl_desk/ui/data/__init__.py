"""Where runs come from: the generator panel and the column-mapping import dialog."""
