"""Registry service: OTOP producers and products, the database the programme selects from."""
