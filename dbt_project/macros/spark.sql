{#- Spark only: register the Parquet lake the extract wrote (dagster_project/lib/lake.py) as
    tables, so sources read raw.* and audit.* on Spark as they do on DuckDB.
    tables: [{schema, name, partition_column, columns: [[name, type], ...], location}, ...]
    (partition_column null: an unpartitioned table, the Python marts). Each table is dropped
    and created again over its folder (an external table: dropping it keeps the files), then
    its day folders are discovered. Run by the pipeline before every dbt build on Spark and
    after each Python mart it writes:  dbt run-operation register_lake --args '{tables: [...]}' -#}
{% macro register_lake(tables) -%}
    {%- for table in tables -%}
        {%- set relation = adapter.quote(table['schema']) ~ '.' ~ adapter.quote(table['name']) -%}
        {%- set columns = [] -%}
        {%- for column in table['columns'] -%}
            {%- do columns.append(adapter.quote(column[0]) ~ ' ' ~ column[1]) -%}
        {%- endfor -%}
        {%- do run_query('create schema if not exists ' ~ adapter.quote(table['schema'])) -%}
        {%- do run_query('drop table if exists ' ~ relation) -%}
        {%- set partitioned = table['partition_column'] is not none -%}
        {%- do run_query(
            'create table ' ~ relation ~ ' (' ~ columns | join(', ') ~ ') using parquet'
            ~ (' partitioned by (' ~ adapter.quote(table['partition_column']) ~ ')' if partitioned else '')
            ~ " location '" ~ table['location'] ~ "'"
        ) -%}
        {%- if partitioned -%}
            {%- do run_query('msck repair table ' ~ relation) -%}
        {%- endif -%}
        {%- do log('registered ' ~ relation ~ ' over ' ~ table['location'], info=true) -%}
    {%- endfor -%}
{%- endmacro %}

{#- An incremental model's engine-dependent config, spread into its config() call:
        {{ config(materialized='incremental', unique_key='contact_id',
                  **incremental_on('delete+insert', partition_by='exported_dt')) }}
    `strategy` is one of incremental_delete_condition's (incremental.sql). On DuckDB it is the
    model's incremental_strategy. Spark (without Delta or Iceberg) cannot delete rows, so
    there the strategy is insert_overwrite of the partitions of `partition_by` (a date column
    the model always fills) that hold a replaced row or a row of the batch, which
    get_insert_overwrite_sql below computes from the same condition. -#}
{% macro incremental_on(strategy, partition_by) -%}
    {%- if target.type == 'spark' -%}
        {{ return({'incremental_strategy': 'insert_overwrite', 'journey_strategy': strategy,
                   'partition_by': [partition_by], 'file_format': 'parquet'}) }}
    {%- else -%}
        {{ return({'incremental_strategy': strategy, 'journey_strategy': strategy}) }}
    {%- endif -%}
{%- endmacro %}

{#- dbt-spark's insert_overwrite, for our models (those with a journey_strategy): rewrite the
    partitions the strategy's delete condition touches, keeping their rows the condition does
    not name, plus the batch. Other models get dbt-spark's own statement.
    The batch (dbt's temporary view over the model's SQL) is first written to a Parquet table,
    and the condition and the rewrite read that table: see spark_rewrite_partitions. -#}
{% macro get_insert_overwrite_sql(source_relation, target_relation, existing_relation) -%}
    {%- set strategy = config.get('journey_strategy') -%}
    {%- if strategy is none -%}
        {{ return(dbt_spark.get_insert_overwrite_sql(source_relation, target_relation, existing_relation)) }}
    {%- endif -%}
    {%- set batch = target_relation.incorporate(path={'identifier': target_relation.identifier ~ '__dbt_batch'}) -%}
    {%- if execute -%}
        {%- do run_query('drop table if exists ' ~ batch) -%}
        {%- do run_query('create table ' ~ batch ~ ' using parquet as select * from ' ~ source_relation) -%}
    {%- endif -%}
    {%- set condition = incremental_delete_condition(strategy, target_relation, batch, config.get('unique_key')) -%}
    {%- if execute -%}
        {%- do run_query(spark_rewrite_partitions(target_relation, condition, batch)) -%}
    {%- endif -%}
    drop table if exists {{ batch }}
{%- endmacro %}

{#- Delete the rows of `relation` where `condition` holds: a DELETE where the warehouse has
    one, a rewrite of the partitions holding them on Spark (a post-hook's delete). -#}
{% macro delete_where(relation, condition) -%}
    {{ return(adapter.dispatch('delete_where', 'journey')(relation, condition)) }}
{%- endmacro %}
{% macro default__delete_where(relation, condition) -%}
    delete from {{ relation }} where {{ condition }}
{%- endmacro %}
{% macro spark__delete_where(relation, condition) -%}
    {{ spark_rewrite_partitions(relation, condition, none) }}
{%- endmacro %}

{#- One statement that leaves `target` (partitioned by the model's partition_by) without the
    rows where `condition` holds and with every row of `batch` (none: nothing added): every
    partition holding such a row or a row of the batch is overwritten with its other rows
    plus the batch's (spark.sql.sources.partitionOverwriteMode = dynamic, set in the profile,
    so other partitions stay as they are). A partition left with no row would not be written
    at all, so it is dropped first (it holds only rows to delete).
    `batch` must be a table (get_insert_overwrite_sql writes dbt's temporary view to one), not
    the view: the statements below name it up to five times, and over the view (even a cached
    one: its in-memory relation keeps the plan that computed it) every statement carries the
    model's whole plan. fct_customer_journey's is thousands of operators, and adaptive
    execution renders the statement's plan, with each copy of it, to text after every stage
    (AdaptiveSparkPlanExec.onUpdatePlan -> explainString): over five rows, its incremental run
    spent minutes per statement on that and never finished. Over a Parquet table, a scan. -#}
{% macro spark_rewrite_partitions(target, condition, batch) -%}
    {%- set partition = config.get('partition_by')[0] if config.get('partition_by') is not string else config.get('partition_by') -%}
    {%- set hit = 'coalesce((' ~ condition ~ '), false)' -%}
    {%- set columns = adapter.get_columns_in_relation(target) | map(attribute='quoted') | join(', ') -%}
    {%- if execute -%}
        {%- set emptied -%}
            select distinct {{ partition }} from {{ target }} where {{ hit }}
            except select {{ partition }} from {{ target }} where not {{ hit }}
            {%- if batch is not none %}
            except select {{ partition }} from {{ batch }}
            {%- endif %}
        {%- endset -%}
        {%- for row in run_query(emptied) -%}
            {%- do run_query('alter table ' ~ target ~ ' drop if exists partition (' ~ partition ~ " = '" ~ row[0] ~ "')") -%}
        {%- endfor -%}
    {%- endif %}
    insert overwrite table {{ target }} partition ({{ partition }})
    select {{ columns }} from {{ target }}
    where {{ partition }} in (
        select {{ partition }} from {{ target }} where {{ hit }}
        {%- if batch is not none %}
        union select {{ partition }} from {{ batch }}
        {%- endif %}
    )
        and not {{ hit }}
    {%- if batch is not none %}
    union all
    select {{ columns }} from {{ batch }}
    {%- endif %}
{%- endmacro %}

{#- dbt's dateadd on Spark, exact to the microsecond (dbt-spark's goes through
    to_unix_timestamp, which drops the fraction of a second, and truncates a fractional
    interval). dbt_project.yml's `dispatch` lets this replace dbt-spark's for every
    dbt.dateadd. Like DuckDB's, the result is a timestamp; a day is 86 400 s (timestamps are
    UTC); months, quarters and years move the calendar date (the 31st becomes the month's
    last day) and keep the time of day. -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    {%- set ts = 'cast(' ~ from_date_or_timestamp ~ ' as timestamp)' -%}
    {%- set micros = {'week': 604800000000, 'day': 86400000000, 'hour': 3600000000, 'minute': 60000000,
                      'second': 1000000, 'millisecond': 1000, 'microsecond': 1} -%}
    {%- set months = {'month': 1, 'quarter': 3, 'year': 12} -%}
    {%- if datepart in micros -%}
        timestamp_micros(unix_micros({{ ts }}) + cast(round(cast({{ interval }} as decimal(38, 9)) * {{ micros[datepart] }}) as bigint))
    {%- elif datepart in months -%}
        timestamp_micros(
            unix_micros(cast(add_months(cast({{ ts }} as date), cast(({{ interval }}) * {{ months[datepart] }} as int)) as timestamp))
            + unix_micros({{ ts }}) - unix_micros(cast(cast({{ ts }} as date) as timestamp))
        )
    {%- else -%}
        {{ exceptions.raise_compiler_error("dateadd: unknown datepart " ~ datepart) }}
    {%- endif -%}
{%- endmacro %}

{#- Spark only (an on-run-end hook): the columns of every partitioned model's table, in
    journey_meta.partitioned_columns. A partitioned table without a row has no Parquet file,
    and the pipeline's Python steps read Spark's tables from their files
    (dagster_project/lib/spark.py): this is where they find such a table's columns. -#}
{% macro record_partitioned_columns() -%}
    {%- if execute and target.type == 'spark' -%}
        {%- set rows = [] -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.config.get('partition_by') -%}
            {%- set relation = adapter.get_relation(node.database, node.schema, node.alias) -%}
            {%- if relation is not none -%}
                {%- for column in adapter.get_columns_in_relation(relation) -%}
                    {%- do rows.append("('" ~ node.schema ~ "', '" ~ node.alias ~ "', " ~ loop.index
                                       ~ ", '" ~ column.name ~ "', '" ~ column.data_type ~ "')") -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do run_query('create schema if not exists journey_meta') -%}
        {%- do run_query('drop table if exists journey_meta.partitioned_columns') -%}
        {%- if rows -%}
            {%- do run_query('create table journey_meta.partitioned_columns using parquet as select * from values '
                             ~ rows | join(', ') ~ ' as t(schema_name, table_name, position, column_name, data_type)') -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
