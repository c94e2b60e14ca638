{#- Generic test on a model: its row rules, checked in one pass over the rows.
    - not_null: columns that never hold a null (a model's key keeps its own `unique` and
      `not_null` tests on the column);
    - between: column -> [min, max], inclusive, each bound a number or an SQL expression of the
      same row (`[0, cohort_customers]`); a null value passes (not_null says whether it may be null).
    One failing row per row of the model that breaks a rule, with `failed_rule` naming the
    first rule it breaks, so a failure reads "12 rows: retention_rate not between 0 and 1".
    One test per model rather than one per column and rule: every test is a dbt node and a
    Dagster asset check, and their fixed cost, not the query, was most of a nightly run's
    tests (docs/decisions.md). -#}
{% test row_rules(model, not_null=[], between={}) %}
    {%- set rules = [] -%}
    {%- for column in not_null -%}
        {%- do rules.append((column ~ ' is null', column ~ ' is null')) -%}
    {%- endfor -%}
    {%- for column, bounds in between.items() -%}
        {%- do rules.append((
            '(' ~ column ~ ' < ' ~ bounds[0] ~ ' or ' ~ column ~ ' > ' ~ bounds[1] ~ ')',
            column ~ ' not between ' ~ bounds[0] ~ ' and ' ~ bounds[1],
        )) -%}
    {%- endfor -%}
    {%- if not rules -%}
        {{ exceptions.raise_compiler_error("row_rules on " ~ model ~ ": no rule (give not_null and/or between)") }}
    {%- endif %}
    select
        case
        {%- for condition, name in rules %}
            when {{ condition }} then '{{ name | replace("'", "''") }}'
        {%- endfor %}
        end as failed_rule
    from {{ model }}
    where
    {%- for condition, _ in rules %}
        {{ condition }}{{ ' or' if not loop.last }}
    {%- endfor %}
{% endtest %}
