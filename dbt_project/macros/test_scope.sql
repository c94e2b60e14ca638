{#- Data tests of an incremental run look at what the run rewrote. A model whose
    `meta.test_scope_column` names a date column has its generic data tests (unique,
    not_null, accepted_values, relationships...) restricted to rows with that column on or
    after the run's window start minus late_data_lookback_days (what recompute_from gives
    once the run has written its window); a full
    refresh, or a run without a window, tests every row. The rows before it were tested by
    the run that wrote them, and delete+insert on the unique key keeps a rewritten key
    from also surviving in an older row. A test's own `where` config still applies.
    Overrides dbt's get_where_subquery, which wraps the tested relation for every generic test. -#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set scope = test_scope_condition() -%}
    {%- if scope -%}
        {%- do conditions.append(scope) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{% macro test_scope_condition() -%}
    {%- if not var('window_start', none) or flags.FULL_REFRESH or not model.attached_node -%}
        {{ return('') }}
    {%- endif -%}
    {%- set tested = graph.nodes.get(model.attached_node) -%}
    {%- set column = (tested.config.meta or {}).get('test_scope_column') if tested else none -%}
    {%- if not column -%}
        {{ return('') }}
    {%- endif -%}
    {%- set start = "cast('" ~ var('window_start') ~ "' as date)" -%}
    {{ return(column ~ ' >= ' ~ dbt.dateadd('day', -(var('late_data_lookback_days', 7) | int), start)) }}
{%- endmacro %}
