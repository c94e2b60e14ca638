{#- Materialization `python_asset`: a table whose rows a Python asset of the pipeline writes
    (today one: marts.mart_customer_ltv, dagster_project/marts/assets.py). The model declares
    the table to dbt, with its columns and descriptions in its yml, so that dbt docs, exposures
    and the semantic layer can use it like any mart; dbt never writes its rows.

    Dagster leaves these models out of the dbt step (transform/assets.py), so a pipeline run
    never runs this. A `dbt build` by hand does: it creates the table empty, with the columns
    and `data_type`s of the yml, when it does not exist yet (the pipeline then replaces it
    whole), and leaves an existing table as it is. -#}
{% materialization python_asset, default %}
    {%- set existing = adapter.get_relation(database=this.database, schema=this.schema, identifier=this.identifier) -%}
    {%- set target = this.incorporate(type='table') -%}
    {%- if existing is none -%}
        {%- set columns = [] -%}
        {%- for column in model.columns.values() -%}
            {%- if not column.data_type -%}
                {{ exceptions.raise_compiler_error(
                    "python_asset " ~ this ~ ": column " ~ column.name ~ " declares no data_type in its yml") }}
            {%- endif -%}
            {%- do columns.append(adapter.quote(column.name) ~ ' ' ~ column.data_type) -%}
        {%- endfor -%}
        {%- do adapter.create_schema(target) -%}
        {% call statement('main') -%}
            create table {{ target }} ({{ columns | join(', ') }})
        {%- endcall %}
        {%- do adapter.commit() -%}
    {%- else -%}
        {% call statement('main') -%}
            select count(*) from {{ target }}
        {%- endcall %}
    {%- endif -%}
    {{ return({'relations': [target]}) }}
{% endmaterialization %}
