"""The services of one deployment, named once: each has its own database, Kafka principal and gateway route.
The local stack gives them HTTP ports in this order."""

SERVICES = ("registry", "scheduling", "sales", "monitoring", "budget", "publicity")
