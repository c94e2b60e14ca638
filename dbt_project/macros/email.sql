{#- An email as a lookup key and as hashed into the marts: lower-cased, with every leading and
    trailing whitespace character removed (spaces, tabs, newlines, no-break spaces and the
    other Unicode spaces: exactly the characters Python's str.strip() removes, so that
    dagster_project/lib/identity.py normalise_email gives the same key), and null when
    nothing is left. "  A@B.COM \t" -> "a@b.com". Used wherever an email is a key or hashed. -#}
{% macro normalise_email(expression) -%}
    {{ return(adapter.dispatch('normalise_email', 'journey')(expression)) }}
{%- endmacro %}

{#- The code points of Python's str.isspace() (Unicode White_Space plus the ASCII separators
    0x1C-0x1F), which str.strip() removes. -#}
{% macro whitespace_code_points() -%}
    {{ return([9, 10, 11, 12, 13, 28, 29, 30, 31, 32, 133, 160, 5760] + range(8192, 8203) | list
              + [8232, 8233, 8239, 8287, 12288]) }}
{%- endmacro %}

{% macro default__normalise_email(expression) -%}
    {%- set characters = [] -%}
    {%- for code in whitespace_code_points() -%}
        {%- do characters.append('chr(' ~ code ~ ')') -%}
    {%- endfor -%}
    nullif(lower(trim({{ expression }}, {{ characters | join(' || ') }})), '')
{%- endmacro %}

{% macro spark__normalise_email(expression) -%}
    {%- set characters = [] -%}
    {%- for code in whitespace_code_points() -%}
        {%- do characters.append('\\\\x{' ~ '%04x' % code ~ '}') -%}
    {%- endfor -%}
    nullif(lower(regexp_replace({{ expression }},
        '^[{{ characters | join('') }}]+|[{{ characters | join('') }}]+$', '')), '')
{%- endmacro %}
