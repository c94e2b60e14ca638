{#- One row per calendar month, its first day, from the month of start_date to the month of
    end_date inclusive (both SQL date or timestamp expressions, e.g. a scalar subquery).
    No recursion (recursive CTEs are missing from several engines, Spark before 4.x among
    them): month offsets 0..999 come from three cross-joined digit lists, so the spine
    covers up to 1000 months (83 years). No row when start_date is after end_date or null. -#}
{% macro month_spine(start_date, end_date, column_name='month_start') -%}
    {%- set digits -%}
        ({% for digit in range(10) %}select {{ digit }} as digit{% if not loop.last %} union all {% endif %}{% endfor %})
    {%- endset -%}
    {%- set first_month = dbt.date_trunc('month', start_date) -%}
    {%- set month_expression = dbt.dateadd('month', 'month_offsets.month_offset', first_month) -%}
    select cast({{ month_expression }} as date) as {{ column_name }}
    from (
        select ones.digit + 10 * tens.digit + 100 * hundreds.digit as month_offset
        from {{ digits }} as ones
        cross join {{ digits }} as tens
        cross join {{ digits }} as hundreds
    ) as month_offsets
    where cast({{ month_expression }} as date) <= cast({{ dbt.date_trunc('month', end_date) }} as date)
{%- endmacro %}
