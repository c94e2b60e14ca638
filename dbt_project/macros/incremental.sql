{#- The raw dt= days an incremental model re-reads: the run's partition window (vars
    window_start / window_end, passed by Dagster) widened by late_data_lookback_days, so an
    event that arrives days late is picked up; without a window, everything newer than what
    the model already holds, minus the lookback. A full refresh reads everything. -#}
{% macro incremental_dt_filter(dt_column, existing_dt_column) -%}
    {%- set lookback = var('late_data_lookback_days', 7) | int -%}
    {%- if is_incremental() -%}
        {%- if var('window_start', none) -%}
            {{ dt_column }} >= {{ dbt.dateadd('day', -lookback, "cast('" ~ var('window_start') ~ "' as date)") }}
            and {{ dt_column }} <= cast('{{ var("window_end", var("window_start")) }}' as date)
        {%- else -%}
            {{ dt_column }} >= (
                select coalesce({{ dbt.dateadd('day', -lookback, 'max(' ~ existing_dt_column ~ ')') }}, cast('1900-01-01' as date))
                from {{ this }}
            )
        {%- endif -%}
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}
