{#- A landing value cast to its staging type, as declared ONCE in vars.landing_fields
    (dbt_project.yml). The loader reads the same table and quarantines any line whose value
    would not cast or is out of range, so these casts cannot fail a build.
    column: the JSON column ('record', or 'item' for one element of a JSON array);
    entity: '<source>__<entity>'; field: the JSONPath as declared. For an array field
    ('$.line_items[*].properties.price') the path is read inside the element
    ('$.properties.price'). -#}
{% macro landing_cast(column, entity, field) -%}
    {%- set spec = landing_field(entity, field) -%}
    {%- set path = ('$' ~ field.split('[*]')[-1]) if '[*]' in field else field -%}
    {%- set text = json_text(column, path) -%}
    {%- if spec['type'] == 'numeric' -%}
        cast({{ text }} as {{ dbt.type_numeric() }})
    {%- elif spec['type'] == 'integer' -%}
        cast({{ text }} as {{ dbt.type_int() }})
    {%- elif spec['type'] == 'double' -%}
        cast({{ text }} as {{ type_double() }})
    {%- elif spec['type'] == 'boolean' -%}
        cast({{ text }} as {{ dbt.type_boolean() }})
    {%- elif spec['type'] == 'iso_timestamp' -%}
        {{ iso_to_utc(text) }}
    {%- elif spec['type'] == 'unix_timestamp' -%}
        {{ unix_to_utc(text) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("landing_fields." ~ entity ~ "." ~ field ~ ": unknown type " ~ spec['type']) }}
    {%- endif -%}
{%- endmacro %}

{#- The declaration of one landing field; a cast of an undeclared field is a compile error. -#}
{% macro landing_field(entity, field) -%}
    {%- set spec = var('landing_fields', {}).get(entity, {}).get(field) -%}
    {%- if spec is none -%}
        {{ exceptions.raise_compiler_error("landing_cast: " ~ entity ~ " " ~ field ~ " is not declared in vars.landing_fields (dbt_project.yml)") }}
    {%- endif -%}
    {{ return(spec) }}
{%- endmacro %}
