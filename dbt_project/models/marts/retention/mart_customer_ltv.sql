-- Predicted customer lifetime value: one row per customer with a counted order. Its rows
-- are written by the Python asset mart_customer_ltv (dagster_project/marts/assets.py: the
-- BG/NBD and Gamma-Gamma fit of dagster_project/marts/ltv.py on int_customer_purchase_days,
-- and the parametric bootstrap of marts/ltv_checks.py), replaced whole on every run.
-- This model only declares the table to dbt, with its columns in mart_customer_ltv.yml, so
-- that dbt docs, the exposures and the semantic layer (sem_commerce.yml) use it like any
-- other mart. dbt never writes its rows: materialization python_asset (macros/python_asset.sql),
-- and Dagster leaves the model out of its dbt step.
{{ config(materialized='python_asset') }}

select * from {{ this }}
