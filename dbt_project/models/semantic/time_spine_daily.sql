-- MetricFlow's daily time spine: one row per calendar day. MetricFlow joins to it for
-- metric_time, cumulative metrics and fill_nulls_with. It lives in schema `semantic`, not
-- `marts`: it is plumbing for the semantic layer, not a table for BI tools, so the marts
-- publication leaves it out. 2000-01-01 to 2049-12-31 is 18,263 rows, built in milliseconds.
{{ config(materialized='table', schema='semantic') }}

{{ day_spine("'2000-01-01'", "'2049-12-31'", 'date_day') }}
