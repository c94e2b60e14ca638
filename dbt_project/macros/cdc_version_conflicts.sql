{#- Change-data-capture conflicts: two landing lines of the same record (key) with the same
    `updatedAt` but different values in `compared_paths` (JSONPaths of the raw record).
    Staging keeps one of them by a fixed rule: the later export day (dt=) wins, then the
    later file path of that day (compared as text), then the later line of that file. The
    result is deterministic, but the export contradicted itself, so a WARN test lists each
    conflict: one row per key and updatedAt, with the number of different versions and the
    landing position that won.
    Lines considered: those exported by the end of `as_of`. In a run with a window only the
    records with a line in the window (plus the late-data lookback) are looked at, with
    their whole history (a line of the window can contradict an older one); a full refresh
    or a run without a window looks at everything. Only the lines of a (key, updatedAt) that
    has two or more lines are read for their compared values (a single line contradicts
    nothing); lines without an updatedAt are one moment per key, as in the ranking. On the
    1 M-customer year that cut the three tests' full-history time ~4x (docs/benchmarks.md). -#}
{% macro cdc_version_conflicts(source_relation, key_name, compared_paths) -%}
{%- set values = [] -%}
{%- for path in compared_paths -%}
    {%- do values.append(json_text('lines.record', path)) -%}
{%- endfor -%}
with lines as (
    select
        record_id as {{ key_name }},
        {{ iso_to_utc(json_text('record', '$.updatedAt')) }} as updated_at,
        record,
        _dt as exported_dt,
        _file_path as source_file_path,
        _line_number as source_line_number
    from {{ source_relation }}
    where _dt <= {{ as_of_date() }}
    {%- if var('window_start', none) and not flags.FULL_REFRESH %}
        and record_id in (
            select windowed.record_id
            from {{ source_relation }} as windowed
            where windowed._dt >= {{ dbt.dateadd('day', -(var('late_data_lookback_days', 7) | int),
                                                "cast('" ~ var('window_start') ~ "' as date)") }}
                and windowed._dt <= cast('{{ var("window_end", var("window_start")) }}' as date)
        )
    {%- endif %}
),

repeated as (
    -- a conflict needs two lines at one (key, updatedAt): only those lines are compared
    select {{ key_name }}, updated_at
    from lines
    group by {{ key_name }}, updated_at
    having count(*) > 1
),

versions as (
    select
        lines.{{ key_name }},
        lines.updated_at,
        {{ surrogate_key(values) }} as content_key,
        lines.exported_dt,
        lines.source_file_path,
        lines.source_line_number
    from lines
    inner join repeated
        on lines.{{ key_name }} = repeated.{{ key_name }}
            and lines.updated_at is not distinct from repeated.updated_at
),

ranked as (
    select
        versions.*,
        row_number() over (
            partition by {{ key_name }}, updated_at
            order by exported_dt desc, source_file_path desc, source_line_number desc
        ) as position_rank
    from versions
),

conflicts as (
    select
        {{ key_name }},
        updated_at,
        count(distinct content_key) as distinct_versions,
        count(*) as lines,
        max(case when position_rank = 1 then exported_dt end) as kept_exported_dt,
        max(case when position_rank = 1 then source_file_path end) as kept_file_path,
        max(case when position_rank = 1 then source_line_number end) as kept_line_number
    from ranked
    group by {{ key_name }}, updated_at
    having count(distinct content_key) > 1
)

select * from conflicts
{%- endmacro %}
