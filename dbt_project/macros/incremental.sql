{#- The raw dt= days an incremental model re-reads: the run's partition window (vars
    window_start / window_end, passed by Dagster) widened by late_data_lookback_days, so an
    event that arrives days late is picked up, and never starting after the day after the
    newest day the model holds, so a gap left by an earlier run is filled; without a window,
    everything newer than what the model holds, minus the lookback. A full refresh reads
    everything. -#}
{% macro incremental_dt_filter(dt_column, existing_dt_column) -%}
    {%- set lookback = var('late_data_lookback_days', 7) | int -%}
    {%- if is_incremental() -%}
        {%- set held = '(select ' ~ dbt.dateadd('day', 1, 'max(' ~ existing_dt_column ~ ')') ~ ' from ' ~ this ~ ')' -%}
        {%- if var('window_start', none) -%}
            {%- set start = "cast('" ~ var('window_start') ~ "' as date)" -%}
            {{ dt_column }} >= {{ dbt.dateadd('day', -lookback, 'least(' ~ start ~ ', coalesce(' ~ held ~ ', ' ~ start ~ '))') }}
            and {{ dt_column }} <= cast('{{ var("window_end", var("window_start")) }}' as date)
        {%- else -%}
            {{ dt_column }} >= {{ dbt.dateadd('day', -(lookback + 1), 'coalesce(' ~ held ~ ", cast('1900-01-02' as date))") }}
        {%- endif -%}
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{#- Latest-state staging (CRM CDC, re-delivered reviews), incremental: the versions parsed
    from the run's window plus, for the keys they touch, the row the model already holds;
    the caller keeps the newest per key and the table replaces those keys (delete+insert).
    The held row is the newest of every version read before, so the result equals a full
    refresh. The model's columns must be `parsed`'s columns, in the same order. -#}
{% macro with_held_versions(parsed, key) -%}
    select * from {{ parsed }}
    {%- if is_incremental() %}
    union all
    select held.*
    from {{ this }} as held
    where held.{{ key }} in (select {{ parsed }}.{{ key }} from {{ parsed }})
    {%- endif %}
{%- endmacro %}

{#- The first event_date an incremental run of fct_customer_journey recomputes: the run's
    window start (or, without a window, the newest event_date it holds) minus the late-data
    lookback; never later than the day after the newest event_date it holds, so a gap left
    by an earlier run (an earlier as_of) is filled. An SQL expression over `relation`. -#}
{% macro journey_recompute_from(relation) -%}
    {%- set lookback = var('late_data_lookback_days', 7) | int -%}
    {%- set held = '(select ' ~ dbt.dateadd('day', 1, 'max(event_date)') ~ ' from ' ~ relation ~ ')' -%}
    {%- if var('window_start', none) -%}
        {%- set start = "least(cast('" ~ var('window_start') ~ "' as date), coalesce(" ~ held ~ ", cast('" ~ var('window_start') ~ "' as date)))" -%}
    {%- else -%}
        {%- set start = 'coalesce(' ~ held ~ ", cast('1900-01-02' as date))" -%}
        {%- set lookback = lookback + 1 -%}
    {%- endif -%}
    {{ dbt.dateadd('day', -lookback, start) }}
{%- endmacro %}

{#- Incremental strategy `journey` (fct_customer_journey): the new batch holds every
    touchpoint of each customer the run touches (renumbered over their whole history) and
    every touchpoint from journey_recompute_from on. Before inserting it, delete from the
    table every row with the same key, every row of those customers, and every row from
    journey_recompute_from on, so that a touchpoint that no longer exists (a reopened
    ticket, an archived order) cannot linger. Plain DELETE and INSERT: portable to any
    warehouse with row-level deletes (DuckDB, Delta on Spark, Iceberg on Trino). -#}
{% macro get_incremental_journey_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set batch = arg_dict['temp_relation'] -%}
    {%- set key = arg_dict['unique_key'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where {{ key }} in (select {{ key }} from {{ batch }})
        or customer_id in (select customer_id from {{ batch }} where customer_id is not null)
        or event_date >= {{ journey_recompute_from(target) }};
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ batch }}
{%- endmacro %}
