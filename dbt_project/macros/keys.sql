{#- Hash of personal data as it may appear in marts (CONTRACT §2): lower-case hex SHA-256. -#}
{% macro sha256(expression) -%}
    {{ return(adapter.dispatch('sha256', 'journey')(expression)) }}
{%- endmacro %}
{% macro default__sha256(expression) -%}
    sha256(cast({{ expression }} as {{ dbt.type_string() }}))
{%- endmacro %}
{% macro spark__sha256(expression) -%}
    sha2(cast({{ expression }} as string), 256)
{%- endmacro %}

{#- A deterministic key from several columns (what dbt_utils.generate_surrogate_key does;
    written here because package hubs are out of reach). -#}
{% macro surrogate_key(columns) -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '_null_')") -%}
        {%- if not loop.last %}{% do parts.append("'|'") %}{% endif -%}
    {%- endfor -%}
    md5({{ dbt.concat(parts) }})
{%- endmacro %}

{#- Keep the first row per key in `order_by`: the CDC rule "latest updatedAt wins" with
    `updated_at desc, exported_dt desc, source_file_path desc, source_line_number desc`, so
    that two versions with the same updatedAt resolve the same way on every run: the later
    export day (dt=) wins, then the later file path of that day (compared as text), then the
    later line of that file. The WARN tests assert_no_conflicting_*_versions list such ties
    when their values differ (macros/cdc_version_conflicts.sql). -#}
{% macro latest_per_key(relation, key, order_by) -%}
    select * from (
        select
            ranked_source.*,
            row_number() over (partition by {{ key }} order by {{ order_by }}) as _version_rank
        from {{ relation }} as ranked_source
    ) as ranked
    where _version_rank = 1
{%- endmacro %}

{#- Safe division: null when the denominator is zero (a rate of nothing is unknown, not 0). -#}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as {{ type_double() }}) / nullif({{ denominator }}, 0))
{%- endmacro %}

{#- A 64-bit float type. dbt.type_float() is `float`, which DuckDB reads as 32-bit REAL:
    7730 / 18 would come back as 429.44449. Rates and averages use this instead. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'journey')()) }}
{%- endmacro %}
{% macro default__type_double() -%}double{%- endmacro %}
{% macro postgres__type_double() -%}double precision{%- endmacro %}
