{#- JSON access to raw records, one definition per engine. Paths are JSONPath
    ('$.properties.email'), which both DuckDB and Spark understand. -#}

{% macro json_text(column, path) -%}
    {{ return(adapter.dispatch('json_text', 'journey')(column, path)) }}
{%- endmacro %}
{% macro default__json_text(column, path) -%}
    nullif(json_extract_string({{ column }}, '{{ path }}'), '')
{%- endmacro %}
{% macro spark__json_text(column, path) -%}
    nullif(get_json_object({{ column }}, '{{ path }}'), '')
{%- endmacro %}

{#- A JSON array as one row per element (used in a select list). -#}
{% macro json_array_elements(column, path) -%}
    {{ return(adapter.dispatch('json_array_elements', 'journey')(column, path)) }}
{%- endmacro %}
{% macro default__json_array_elements(column, path) -%}
    unnest(cast(json_extract({{ column }}, '{{ path }}') as json[]))
{%- endmacro %}
{% macro spark__json_array_elements(column, path) -%}
    explode(from_json(get_json_object({{ column }}, '{{ path }}'), 'array<string>'))
{%- endmacro %}
