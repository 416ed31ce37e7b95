"""The four OTOP Mobile services; each imports only `shared`, never another service."""
