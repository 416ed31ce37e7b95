"""Registry service: OTOP producers and products, the database the programme selects from.

Producers (type, contact, DOPA location, experience, availability), products (category, stars, quadrant,
Nawatwithi, price, status), search, CSV/XLSX import and export, and mentoring groups that pair new
producers with experienced ones. Every change is published as the aggregate's full state with its
revision. Routes, roles, the import layout and the events: README.md beside this file.
"""
