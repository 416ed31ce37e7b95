"""Budget service: the money and materials of a province's season.

The project proposal (the seed's plan table with a budget in baht broken into lines), submitted to the
department, approved or returned with a comment and resubmitted, every version kept; spending against
the approved lines (materials and equipment requested, bought with a receipt, received); the province's
stock of reusable materials and its write-offs; each market day's packing list. Its own database, its
events on the otop.budget.* topics; market days and their lineups come from scheduling's events.
"""
