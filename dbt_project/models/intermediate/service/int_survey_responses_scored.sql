-- One row per survey response submitted before the end of `as_of`, categorised from its
-- score (CONTRACT §4; the vendor's hs_response_group is not trusted):
-- NPS 0-10: promoter 9-10, passive 7-8, detractor 0-6. CSAT 1-5: satisfied 4-5.
-- CES 1-7: low effort 5-7. Sentiment for the journey: the top band positive, the bottom
-- band negative (NPS detractor, CSAT 1-2, CES 1-3), the rest neutral.
-- Segment is the customer's current CRM segment ('unknown' when missing or unidentified).
with responses as (
    select * from {{ ref('stg_crm__feedback_submissions') }}
    where submitted_at < {{ as_of_end() }}
        and not is_archived
),

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
    where not is_archived
),

scored as (
    select
        responses.submission_id,
        contacts.contact_id as customer_id,
        responses.ticket_id,
        responses.survey_type,
        responses.survey_name,
        coalesce(responses.survey_channel, 'UNKNOWN') as survey_channel,
        coalesce(contacts.segment, 'unknown') as segment,
        responses.score,
        responses.vendor_response_group,
        responses.submitted_at,
        {{ reporting_date('responses.submitted_at') }} as response_date,
        case
            when responses.survey_type = 'NPS' and responses.score >= 9 then 'promoter'
            when responses.survey_type = 'NPS' and responses.score >= 7 then 'passive'
            when responses.survey_type = 'NPS' then 'detractor'
        end as nps_category,
        responses.survey_type = 'CSAT' and responses.score >= 4 as is_satisfied,
        responses.survey_type = 'CES' and responses.score >= 5 as is_low_effort,
        case
            when responses.survey_type = 'NPS' and responses.score >= 9 then 'positive'
            when responses.survey_type = 'NPS' and responses.score <= 6 then 'negative'
            when responses.survey_type = 'CSAT' and responses.score >= 4 then 'positive'
            when responses.survey_type = 'CSAT' and responses.score <= 2 then 'negative'
            when responses.survey_type = 'CES' and responses.score >= 5 then 'positive'
            when responses.survey_type = 'CES' and responses.score <= 3 then 'negative'
            else 'neutral'
        end as sentiment
    from responses
    left join contacts on responses.contact_id = contacts.contact_id
)

select * from scored
