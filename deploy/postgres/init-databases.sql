-- One database per service (docker-compose); no service reads another's tables.
CREATE DATABASE otop_registry;
CREATE DATABASE otop_scheduling;
CREATE DATABASE otop_sales;
CREATE DATABASE otop_monitoring;
CREATE DATABASE otop_publicity;
