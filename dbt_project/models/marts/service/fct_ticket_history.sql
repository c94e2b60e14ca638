-- One row per status change of a support ticket (its pipeline stage: 1 new, 2 waiting on
-- contact, 3 waiting on us, 4 closed), read from every CRM version of the ticket
-- (stg_crm__ticket_versions) up to the end of `as_of`. A version whose stage equals the
-- previous version's (an owner or priority edit) is no status change and is skipped. The
-- first status is entered when the ticket was created; each later one at the updatedAt of
-- the version that changed it, and is left when the next one is entered. minutes_in_status
-- is the time spent in a status that has been left; the current status (is_current) has no
-- end yet and null minutes (its age so far is in mart_ticket_backlog_daily). A reopening is
-- a status other than closed entered from closed. Channel, priority and owner are those of
-- the version that made the change (the agent who closed it, for a closing).
-- Incremental (delete+insert on ticket_id): a run rebuilds the whole history of every ticket
-- with a version exported from recompute_from on; exported_dt (the newest export among the
-- ticket's versions) is the watermark. A ticket deleted in the CRM keeps its history, with
-- is_archived true (the service marts leave it out).
{{ config(
    materialized='incremental',
    unique_key='ticket_id',
    on_schema_change='fail',
    **incremental_on('delete+insert', partition_by='exported_dt'),
) }}

with
{% if is_incremental() %}
changed_tickets as (
    select versions.ticket_id
    from {{ ref('stg_crm__ticket_versions') }} as versions
    where versions.exported_dt >= {{ recompute_from(this, 'exported_dt') }}
),

{% endif %}
versions as (
    select * from {{ ref('stg_crm__ticket_versions') }}
    where updated_at < {{ as_of_end() }}
        and created_at < {{ as_of_end() }}
    {%- if is_incremental() %}
        and ticket_id in (select changed_tickets.ticket_id from changed_tickets)
    {%- endif %}
),

ticket_state as (
    -- the ticket's newest visible version says whether it is deleted; the watermark is the
    -- newest export among its versions
    select
        ticket_id,
        max(exported_dt) as exported_dt,
        max(case when is_latest then is_archived_flag end) = 1 as is_archived
    from (
        select
            ticket_id,
            exported_dt,
            case when is_archived then 1 else 0 end as is_archived_flag,
            row_number() over (partition by ticket_id order by updated_at desc) = 1 as is_latest
        from versions
    ) as ranked
    group by ticket_id
),

sequenced as (
    select
        versions.*,
        lag(versions.pipeline_stage) over (
            partition by versions.ticket_id order by versions.updated_at
        ) as previous_stage,
        row_number() over (partition by versions.ticket_id order by versions.updated_at) as version_number
    from versions
),

changes as (
    select
        ticket_id,
        pipeline_stage,
        previous_stage,
        case when version_number = 1 and created_at < updated_at then created_at else updated_at end as entered_at,
        owner_id,
        channel,
        priority
    from sequenced
    where version_number = 1 or pipeline_stage is distinct from previous_stage
),

timed as (
    select
        changes.*,
        row_number() over (partition by changes.ticket_id order by changes.entered_at) as status_sequence,
        lead(changes.entered_at) over (partition by changes.ticket_id order by changes.entered_at) as left_at
    from changes
)

select
    timed.ticket_id,
    timed.status_sequence,
    timed.pipeline_stage,
    case timed.pipeline_stage
        when 1 then 'new'
        when 2 then 'waiting_on_contact'
        when 3 then 'waiting_on_us'
        when 4 then 'closed'
    end as status,
    timed.previous_stage,
    timed.entered_at,
    {{ reporting_date('timed.entered_at') }} as entered_date,
    timed.left_at,
    timed.left_at is null as is_current,
    case
        -- the datediff renders longer than a line on DuckDB
        when timed.left_at is not null then {{ seconds_between('timed.entered_at', 'timed.left_at') }} / 60.0  -- noqa: LT05
    end as minutes_in_status,
    coalesce(timed.pipeline_stage = 4, false) as is_closing,
    coalesce(timed.previous_stage = 4 and timed.pipeline_stage <> 4, false) as is_reopening,
    timed.owner_id,
    timed.channel,
    timed.priority,
    ticket_state.is_archived,
    ticket_state.exported_dt
from timed
inner join ticket_state on timed.ticket_id = ticket_state.ticket_id
