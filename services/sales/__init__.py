"""Sales service: sales captured from officers and from external POS integrations."""
