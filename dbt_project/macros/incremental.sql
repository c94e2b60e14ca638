{#- The first day an incremental run recomputes, as an SQL date, minus
    late_data_lookback_days so that late arrivals are picked up: the run's window start (var
    window_start, passed by Dagster), but never later than the day after the newest
    `held_column` value in `relation` (so a gap left by an earlier run is filled); without a
    window, that newest value itself.
    The newest held value is read once, when the model is compiled, and the result is a date
    literal: a warehouse prunes a scan by a literal (DuckDB's zone maps skip the row groups of
    older days), not by a scalar subquery, which made every run read the whole raw table.
    In a dbt unit test `relation` is a fixture, not a table, so the same rule stays a subquery. -#}
{% macro recompute_from(relation, held_column) -%}
    {%- set lookback = var('late_data_lookback_days', 7) | int -%}
    {%- if execute and model.resource_type != 'unit_test' -%}
        {%- set held = run_query('select max(' ~ held_column ~ ') from ' ~ relation).columns[0].values()[0] -%}
        {%- set dt = modules.datetime -%}
        {%- if held is not none and held.hour is defined -%}
            {%- set held = held.date() -%}
        {%- endif -%}
        {%- if var('window_start', none) -%}
            {%- set start = dt.date.fromisoformat(var('window_start') | string) -%}
            {%- if held is not none and held + dt.timedelta(days=1) < start -%}
                {%- set start = held + dt.timedelta(days=1) -%}
            {%- endif -%}
        {%- else -%}
            {%- set start = held if held is not none else dt.date(1900, 1, 1) -%}
        {%- endif -%}
        cast('{{ (start - dt.timedelta(days=lookback)).isoformat() }}' as date)
    {%- else -%}
        {%- if var('window_start', none) -%}
            {%- set held = '(select ' ~ dbt.dateadd('day', 1, 'max(' ~ held_column ~ ')') ~ ' from ' ~ relation ~ ')' -%}
            {%- set start = "cast('" ~ var('window_start') ~ "' as date)" -%}
            {%- set start = 'least(' ~ start ~ ', coalesce(' ~ held ~ ', ' ~ start ~ '))' -%}
        {%- else -%}
            {%- set start = '(select coalesce(max(' ~ held_column ~ "), cast('1900-01-01' as date)) from " ~ relation ~ ')' -%}
        {%- endif -%}
        {{ dbt.dateadd('day', -lookback, start) }}
    {%- endif -%}
{%- endmacro %}

{#- The newest `column` value held in `relation`, or `default` when it holds none, as an
    SQL value of `data_type` for a filter. Like recompute_from, a literal read once at compile
    time in real runs (so the scan it filters is pruned), and the same rule as a scalar
    subquery where `relation` is a unit-test fixture. -#}
{% macro held_max(relation, column, data_type, default) -%}
    {%- if execute and model.resource_type != 'unit_test' -%}
        {%- set held = run_query('select max(' ~ column ~ ') from ' ~ relation).columns[0].values()[0] -%}
        cast('{{ default if held is none else held }}' as {{ data_type }})
    {%- else -%}
        coalesce((select max({{ column }}) from {{ relation }}), cast('{{ default }}' as {{ data_type }}))
    {%- endif -%}
{%- endmacro %}

{#- `order by column` in a full refresh, nothing in an incremental run. The order changes no
    value; it is the physical layout: incremental runs filter on that date from
    recompute_from on, and DuckDB skips a row group by its min/max only when the days are not
    spread over all of them (unsorted, one week's rows sat in every row group). Incremental
    runs append, so the table stays in date order. -#}
{% macro full_refresh_order_by(column) -%}
    {%- if not is_incremental() %}
order by {{ column }}
    {%- endif -%}
{%- endmacro %}

{#- The raw dt= days an incremental model re-reads: from recompute_from on, up to the
    window's end when the run has a window. A full refresh reads everything. -#}
{% macro incremental_dt_filter(dt_column, existing_dt_column) -%}
    {%- if is_incremental() -%}
        {{ dt_column }} >= {{ recompute_from(this, existing_dt_column) }}
        {%- if var('window_start', none) %}
            and {{ dt_column }} <= cast('{{ var("window_end", var("window_start")) }}' as date)
        {%- endif -%}
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}

{#- Incremental staging: the rows parsed from the run's window plus, for the keys they
    touch, the row the model already holds; the caller keeps one row per key (the newest
    version for CRM CDC, the first delivery for events) and the table replaces those keys
    (delete+insert). The held row already is the pick among every row read before, so the
    result equals a full refresh. The model's columns must be `parsed`'s columns, in the same order. -#}
{% macro with_held_versions(parsed, key) -%}
    {%- if is_incremental() %}
    select {{ held_columns() }} from {{ parsed }}
    union all
    select {{ held_columns() }}
    from {{ this }} as held
    where held.{{ key }} in (select {{ parsed }}.{{ key }} from {{ parsed }})
    {%- else %}
    select * from {{ parsed }}
    {%- endif %}
{%- endmacro %}

{#- The columns of the model's held table, quoted, in its order: a union or EXCEPT with
    `this` names them instead of `*`, which matches by position (Spark moves a table's
    partition column to the end). -#}
{% macro held_columns() -%}
    {#- in a unit test `this` is the name of its fixture, whose columns are the table's -#}
    {%- if this is string and execute -%}
        {#- a unit test node has its model's database and schema; models here keep their name -#}
        {%- set held = adapter.get_relation(model.database, model.schema, model.tested_node_unique_id.split('.')[-1]) -%}
    {%- else -%}
        {%- set held = adapter.get_relation(this.database, this.schema, this.identifier) if execute else none -%}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(held) if held is not none else [] -%}
    {{ columns | map(attribute='quoted') | join(', ') if columns else '*' }}
{%- endmacro %}

{#- True when landing position (dt, file, line) a comes strictly before position b: the
    order in which deliveries arrived. Written out rather than as a row comparison, which
    not every warehouse has. -#}
{% macro delivered_before(a_dt, a_file, a_line, b_dt, b_file, b_line) -%}
    ({{ a_dt }} < {{ b_dt }}
        or ({{ a_dt }} = {{ b_dt }} and {{ a_file }} < {{ b_file }})
        or ({{ a_dt }} = {{ b_dt }} and {{ a_file }} = {{ b_file }} and {{ a_line }} < {{ b_line }}))
{%- endmacro %}

{#- The rows an incremental run replaces, as a condition on the held table `target` (the
    batch is `batch`, the model's unique key `key`), for each strategy the models use:
    - delete+insert: every held row with a key of the batch;
    - journey (fct_customer_journey): the new batch holds the whole history of each customer
      the run recomputes (renumbered) and every anonymous touchpoint from recompute_from on,
      so every row with the same key, every row of those customers, and every anonymous row
      from recompute_from on: a touchpoint that no longer exists (a reopened ticket, an
      archived order) cannot linger, and a customer's recent touchpoint that is gone makes
      the model recompute that customer;
    - first_delivery (stg_cart_events__tracks): the rows with a key of the batch, looking only
      at rows received from recompute_from on. Every row of the batch was read from those
      days, and a held row it replaces is a later delivery of the same message, so it was
      received on those days too: the date bound changes nothing but lets the warehouse skip
      the older row groups instead of reading the key of every event ever stored;
    - recent_rows (journey_analytics.sql): every row from the model's recompute_column date on.
    DuckDB deletes these rows and inserts the batch; Spark rewrites the partitions holding
    them (spark.sql: spark_rewrite_partitions). -#}
{% macro incremental_delete_condition(strategy, target, batch, key) -%}
    {%- if strategy == 'delete+insert' -%}
        {{ key }} in (select {{ key }} from {{ batch }})
    {%- elif strategy == 'journey' -%}
        {{ key }} in (select {{ key }} from {{ batch }})
        or customer_id in (select customer_id from {{ batch }} where customer_id is not null)
        or (customer_id is null and event_date >= {{ recompute_from(target, 'event_date') }})
    {%- elif strategy == 'first_delivery' -%}
        {{ key }} in (select {{ key }} from {{ batch }})
        and received_dt >= {{ recompute_from(target, 'received_dt') }}
    {%- elif strategy == 'recent_rows' -%}
        {{ recent_rows_condition(target, batch, key) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("incremental_delete_condition: unknown strategy " ~ strategy) }}
    {%- endif -%}
{%- endmacro %}

{#- A custom incremental strategy on a warehouse with row-level deletes (DuckDB, Delta on
    Spark, Iceberg on Trino): delete the rows incremental_delete_condition names, then insert
    the batch. -#}
{% macro delete_where_then_insert(arg_dict, strategy) -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ arg_dict['target_relation'] }}
    where {{ incremental_delete_condition(strategy, arg_dict['target_relation'], arg_dict['temp_relation'], arg_dict['unique_key']) }};
    insert into {{ arg_dict['target_relation'] }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}

{% macro get_incremental_journey_sql(arg_dict) -%}
    {{ delete_where_then_insert(arg_dict, 'journey') }}
{%- endmacro %}

{% macro get_incremental_first_delivery_sql(arg_dict) -%}
    {{ delete_where_then_insert(arg_dict, 'first_delivery') }}
{%- endmacro %}

{#- True when any of `columns` differs between the rows `left` and `right` (relation
    aliases), nulls compared as values: fct_customer_journey's change detection, which
    compares some columns of its recent touchpoints, not whole rows. -#}
{% macro any_column_differs(left, right, columns) -%}
    ({% for column in columns -%}
        {{ left }}.{{ column }} is distinct from {{ right }}.{{ column }}{{ '' if loop.last else ' or ' }}
    {%- endfor %})
{%- endmacro %}
