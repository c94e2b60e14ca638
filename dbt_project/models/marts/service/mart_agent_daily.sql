-- One row per activity date x support agent (HubSpot owner) with any activity that day
-- (CONTRACT §3): tickets assigned (owner = hubspot_owner_id, counted on the ticket's created
-- date), tickets resolved (counted on its closed date, as known by the end of `as_of`),
-- inbound calls answered (the Aircall user joined to the owner by e-mail, lower-cased and
-- trimmed) and their average handle time. Agents are employees: agent_name is kept minimal,
-- first name + last initial ("Ola N."). Unassigned tickets and calls answered by an Aircall
-- user who is no HubSpot owner are left out (they have no agent). Counts and
-- handle_seconds_sum are additive: avg_handle_seconds = handle_seconds_sum / calls_with_handle_time.
-- Lifecycle (docs/service-marts.md), on the created date of the agent's assigned tickets:
-- tickets_assigned_resolved (closed by the end of `as_of`), tickets_resolved_same_day (closed
-- on the reporting date they were created, final close), resolution_rate and
-- same_day_resolution_rate over tickets_assigned. On the date of each closing
-- (fct_ticket_history; the agent is the owner on the closing version): ticket_closures,
-- closures_reopened (the ticket left closed again later, by the end of `as_of`) and
-- reopen_rate = closures_reopened / ticket_closures.
with tickets as (
    select * from {{ ref('int_tickets_measured') }}
),

closings as (
    select * from {{ ref('fct_ticket_history') }}
    where is_closing and not is_archived and owner_id is not null
),

calls as (
    select * from {{ ref('int_calls_measured') }}
    where is_inbound and is_answered
),

owners as (
    select * from {{ ref('stg_crm__owners') }}
),

owner_emails_ranked as (
    -- one owner per e-mail: a live owner before an archived one, then the lowest id
    select
        owners.owner_id,
        {{ normalise_email('owners.email') }} as email_key,
        row_number() over (
            partition by {{ normalise_email('owners.email') }}
            order by case when owners.is_archived then 1 else 0 end, owners.owner_id
        ) as email_rank
    from owners
    where owners.email is not null
),

owner_emails as (
    select
        owner_id,
        email_key
    from owner_emails_ranked
    where email_rank = 1
),

owner_name_parts as (
    select
        owner_id,
        nullif(trim(first_name), '') as first_name,
        substr(nullif(trim(last_name), ''), 1, 1) as last_initial
    from owners
),

agent_names as (
    -- agents are employees: first name + last initial is enough to recognise them
    select
        owner_id,
        case
            when first_name is not null and last_initial is not null
                then {{ dbt.concat(["first_name", "' '", "last_initial", "'.'"]) }}
            when first_name is not null then first_name
            when last_initial is not null then {{ dbt.concat(["last_initial", "'.'"]) }}
        end as agent_name
    from owner_name_parts
),

tickets_assigned as (
    select
        created_date as activity_date,
        owner_id as agent_id,
        count(*) as tickets_assigned,
        count(case when is_resolved then 1 end) as tickets_assigned_resolved,
        count(case when is_resolved and {{ reporting_date('closed_at') }} = created_date then 1 end)
            as tickets_resolved_same_day
    from tickets
    where owner_id is not null
    group by created_date, owner_id
),

tickets_closed as (
    select
        owner_id as agent_id,
        {{ reporting_date('closed_at') }} as activity_date
    from tickets
    where owner_id is not null and closed_at is not null
),

tickets_resolved as (
    select
        activity_date,
        agent_id,
        count(*) as tickets_resolved
    from tickets_closed
    group by activity_date, agent_id
),

ticket_closures as (
    select
        entered_date as activity_date,
        owner_id as agent_id,
        count(*) as ticket_closures,
        count(case when left_at is not null then 1 end) as closures_reopened
    from closings
    group by entered_date, owner_id
),

calls_answered as (
    select
        calls.call_date as activity_date,
        owner_emails.owner_id as agent_id,
        count(*) as calls_answered,
        cast(coalesce(sum(calls.handle_seconds), 0) as {{ dbt.type_bigint() }}) as handle_seconds_sum,
        count(calls.handle_seconds) as calls_with_handle_time
    from calls
    inner join owner_emails on {{ normalise_email('calls.agent_email') }} = owner_emails.email_key
    group by calls.call_date, owner_emails.owner_id
),

agent_days as (
    select
        activity_date,
        agent_id
    from tickets_assigned
    union
    select
        activity_date,
        agent_id
    from tickets_resolved
    union
    select
        activity_date,
        agent_id
    from calls_answered
    union
    select
        activity_date,
        agent_id
    from ticket_closures
),

combined as (
    select
        agent_days.activity_date,
        agent_days.agent_id,
        agent_names.agent_name,
        coalesce(tickets_assigned.tickets_assigned, 0) as tickets_assigned,
        coalesce(tickets_resolved.tickets_resolved, 0) as tickets_resolved,
        coalesce(calls_answered.calls_answered, 0) as calls_answered,
        coalesce(calls_answered.handle_seconds_sum, 0) as handle_seconds_sum,
        coalesce(calls_answered.calls_with_handle_time, 0) as calls_with_handle_time,
        round(
            {{ safe_divide('calls_answered.handle_seconds_sum', 'calls_answered.calls_with_handle_time') }}, 4
        ) as avg_handle_seconds,
        coalesce(tickets_assigned.tickets_assigned_resolved, 0) as tickets_assigned_resolved,
        coalesce(tickets_assigned.tickets_resolved_same_day, 0) as tickets_resolved_same_day,
        round(
            {{ safe_divide('tickets_assigned.tickets_assigned_resolved', 'tickets_assigned.tickets_assigned') }}, 6
        ) as resolution_rate,
        round(
            {{ safe_divide('tickets_assigned.tickets_resolved_same_day', 'tickets_assigned.tickets_assigned') }}, 6
        ) as same_day_resolution_rate,
        coalesce(ticket_closures.ticket_closures, 0) as ticket_closures,
        coalesce(ticket_closures.closures_reopened, 0) as closures_reopened,
        round({{ safe_divide('ticket_closures.closures_reopened', 'ticket_closures.ticket_closures') }}, 6)
            as reopen_rate
    from agent_days
    left join agent_names
        on agent_days.agent_id = agent_names.owner_id
    left join tickets_assigned
        on
            agent_days.activity_date = tickets_assigned.activity_date
            and agent_days.agent_id = tickets_assigned.agent_id
    left join tickets_resolved
        on
            agent_days.activity_date = tickets_resolved.activity_date
            and agent_days.agent_id = tickets_resolved.agent_id
    left join calls_answered
        on
            agent_days.activity_date = calls_answered.activity_date
            and agent_days.agent_id = calls_answered.agent_id
    left join ticket_closures
        on
            agent_days.activity_date = ticket_closures.activity_date
            and agent_days.agent_id = ticket_closures.agent_id
)

select * from combined
