-- An erased (archived) contact leaves no identifier in the marts schema. One row per place
-- where one survives:
-- * any marts column named *customer_id or *contact_id holding the erased contact's id
--   (fct_customer_journey, dim_customers, and any mart that adds such a column later);
-- * fct_customer_journey.source_record_id of a sign-up (the only touchpoint whose record is
--   the contact itself; orders, tickets, surveys, calls, carts and reviews keep their own
--   record ids, which are the shop's records, not the person's);
-- * a journey_event_id made from the erased contact's id (md5 of 'crm|signed_up|<id>');
-- * dim_customers.email_sha256 / phone_sha256 equal to the hash of the erased contact's
--   normalised email or E.164 phone, unless a live contact has the same email or phone.
{{ config(meta={'dagster': {'ref': {'name': 'fct_customer_journey'}}}) }}
-- depends_on: {{ ref('fct_conversion_touches') }}, {{ ref('fct_sentiment_shifts') }}

{#- Every documented *customer_id / *contact_id column of a marts model, read through its
    relation rather than ref() (a model added later needs no edit here; a table not built yet
    is skipped). In a build this test runs after the models it refs; add a
    `-- depends_on: ref(...)` line for a new mart that should be checked in the same build.
    Not the tables Python assets write (materialization python_asset: mart_customer_ltv): the
    pipeline rewrites them after dbt, so during a build they still hold the previous run's
    rows (a contact erased today is still there until the LTV step runs). mart_customer_ltv
    takes its customers from int_orders_converted, where an erased contact's orders have no
    customer_id. -#}
{%- set id_columns = [] %}
{%- if execute %}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.fqn[1] == 'marts'
            and node.config.materialized not in ('ephemeral', 'python_asset') %}
        {%- set relation = adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias) %}
        {%- for column in node.columns.values()
            if relation is not none and (column.name.endswith('customer_id') or column.name.endswith('contact_id')) %}
            {%- do id_columns.append((node.name, column.name, relation)) %}
        {%- endfor %}
    {%- endfor %}
{%- endif %}

with erased as (
    select contact_id, email, phone_e164
    from {{ ref('stg_crm__contacts') }}
    where is_archived
),

live as (
    select email, phone_e164
    from {{ ref('stg_crm__contacts') }}
    where not is_archived
),

survivors as (
    {%- for model_name, column_name, relation in id_columns %}
    select '{{ model_name }}.{{ column_name }}' as found_in, cast({{ column_name }} as {{ dbt.type_string() }}) as erased_contact_id
    from {{ relation }}
    where cast({{ column_name }} as {{ dbt.type_string() }}) in (select erased.contact_id from erased)
    union all
    {%- endfor %}
    select 'fct_customer_journey.source_record_id (signed_up)', journey.source_record_id
    from {{ ref('fct_customer_journey') }} as journey
    where journey.touchpoint = 'signed_up'
        and journey.source_record_id in (select erased.contact_id from erased)
    union all
    select 'fct_customer_journey.journey_event_id (signed_up)', erased.contact_id
    from erased
    inner join {{ ref('fct_customer_journey') }} as journey
        on journey.journey_event_id = {{ surrogate_key(["'crm'", "'signed_up'", 'erased.contact_id']) }}
    union all
    select 'dim_customers.email_sha256', erased.contact_id
    from erased
    inner join {{ ref('dim_customers') }} as customers on customers.email_sha256 = {{ sha256('erased.email') }}
    where erased.email not in (select live.email from live where live.email is not null)
    union all
    select 'dim_customers.phone_sha256', erased.contact_id
    from erased
    inner join {{ ref('dim_customers') }} as customers on customers.phone_sha256 = {{ sha256('erased.phone_e164') }}
    where erased.phone_e164 not in (select live.phone_e164 from live where live.phone_e164 is not null)
)

select found_in, erased_contact_id, count(*) as occurrences
from survivors
group by found_in, erased_contact_id
