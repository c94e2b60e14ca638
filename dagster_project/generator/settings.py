"""The numbers behind the synthetic landing zone, in one place.

Every behavioural number of the simulation lives here with a comment saying
where it comes from: a public benchmark (given by name, as an order of
magnitude, not a quotation), a vendor's documented behaviour, or a design
choice made so that every KPI mart has something to show. Change them here,
not in the simulation code. The output is a function of these numbers, the
options and the seed: changing a number changes the bytes.
"""

from __future__ import annotations

# --- Layout and scale -------------------------------------------------------

# Part files per entity and day. Fixed (not the CPU count) so the bytes do not
# depend on the machine: chunk k always goes to part-(k % SHARDS + 1).
SHARDS = 2
# Worker processes at most (the reference machine has 2 cores); never more than SHARDS.
MAX_WORKERS = 2
# Below this many customer-days a run stays in one process: starting workers costs more.
PARALLEL_MIN_CUSTOMER_DAYS = 500_000
# Customer-days simulated per chunk: at ~25 lines per customer-year of ~450 bytes
# (measured at 1M x 365) one chunk buffers ~100 MB, so two workers stay far below
# the 2 GB budget (~180 MB peak RSS each), while the per-chunk file appends stay few.
CUSTOMER_DAYS_PER_CHUNK = 3_000_000
MIN_CHUNK_CUSTOMERS = 250
MAX_CHUNK_CUSTOMERS = 20_000
# Ids are <base> + chunk * ID_BLOCK + a counter: unique without global state.
ID_BLOCK = 100_000_000
CONTACT_ID_BASE = 100_000
ORDER_ID_BASE = 10_000_000_000
TICKET_ID_BASE = 20_000_000_000
FEEDBACK_ID_BASE = 30_000_000_000
CALL_ID_BASE = 40_000_000_000
# Days after the run the calendar can format (CDC versions due after the run are
# computed, then dropped as not yet exported; long-tailed delays reach far).
CALENDAR_AHEAD_DAYS = 400
# gzip level: zlib's default trade-off between speed and size.
GZIP_LEVEL = 6

# --- Customers --------------------------------------------------------------

# Market -> share of customers. Design choice: a Central/Eastern-European shop
# (PL largest) with DE, US and CN marketplaces, so that several scripts,
# currencies, time zones and phone plans meet in one warehouse.
MARKET_WEIGHTS: dict[str, float] = {
    "PL": 0.26,
    "DE": 0.20,
    "BG": 0.12,
    "RU": 0.11,
    "US": 0.13,
    "CN": 0.10,
    "LV": 0.08,
}
# Segment shares; None = the property is missing in the CRM (CONTRACT §1 allows it).
SEGMENT_WEIGHTS: dict[str | None, float] = {"consumer": 0.72, "smb": 0.16, "enterprise": 0.05, None: 0.07}
# Share of contacts with a missing segment that get one in a later CDC version (enrichment).
SEGMENT_BACKFILL_SHARE = 0.3
# Share of the customer base that signs up per year of simulated time (design
# choice: a growing shop), capped so that short runs still start with a base.
SIGNUP_SHARE_PER_YEAR = 0.5
MAX_SIGNUP_SHARE = 0.7
# Pre-existing contacts were created up to this many days before start_date;
# their orders of the last HISTORY_DAYS are exported in the initial sync.
MAX_CONTACT_AGE_DAYS = 730
HISTORY_DAYS = 365
# Initial CRM sync on the first day: records are touched between these hours (UTC).
INITIAL_SYNC_HOURS = (0.5, 5.0)

# Purchase frequency: orders per year while alive ~ Gamma(shape, scale), and the
# BG/NBD-style drop-out probability after each purchase ~ Beta(a, b). The
# Fader-Hardie CDNOW estimates (r ~ 0.24, a ~ 0.79, b ~ 2.43) describe a shop
# whose customers mostly buy once; these are a little more loyal (design choice)
# so that repeat, cross-sell and upsell marts are well populated.
ORDERS_PER_YEAR_SHAPE = 0.9
ORDERS_PER_YEAR_SCALE = 3.4
DROPOUT_BETA = (1.1, 4.5)
# Share of contacts that are leads who (almost) never buy.
LEAD_SHARE = 0.22
LEAD_RATE_FACTOR = 0.08
# Share of new contacts whose lifecycle stage starts as "subscriber" (newsletter) rather than "lead".
SUBSCRIBER_SHARE = 0.3
# Segment multipliers on purchase rate and basket quantity (B2B buys more, in bulk).
SEGMENT_RATE: dict[str | None, float] = {"consumer": 1.0, "smb": 1.5, "enterprise": 2.2, None: 1.0}
SEGMENT_QUANTITY: dict[str | None, int] = {"consumer": 1, "smb": 4, "enterprise": 12, None: 1}
# Share of customers whose contact record is erased (archived) per year.
ERASURE_SHARE_PER_YEAR = 0.004

# --- Experience and mood ----------------------------------------------------

# A customer's mood is a latent score: a personal base ~ Normal(mean, sd) plus
# shocks from experiences that fade with this time constant (days).
MOOD_BASE = (0.45, 0.75)
MOOD_DECAY_DAYS = 45.0
MOOD_DELIVERY_LATE = -0.9
MOOD_DELIVERY_FAST = 0.15
MOOD_REFUND = -0.35
MOOD_CANCELLED = -0.5
MOOD_CALL_ABANDONED = -1.0
MOOD_CALL_RESOLVED = 0.2
MOOD_TICKET_SLA_BREACH = -0.9
MOOD_TICKET_FAST = 0.15
MOOD_TICKET_NEVER_ANSWERED = -1.3
MOOD_TICKET_REOPENED = -0.8  # the fix did not hold: the customer reopens the ticket
# Extra drop-out probability per unit of negative mood at purchase time: bad
# experiences make customers go quiet (the churn end of the incident chain).
DROPOUT_PER_BAD_MOOD = 0.25

# --- Catalogue --------------------------------------------------------------

# Product count: about one per 100 customers, within the brief's 50-200.
PRODUCTS_PER_CUSTOMER = 0.01
MIN_PRODUCTS, MAX_PRODUCTS = 60, 180
# Share of products launched during the run (first version on launch day) and
# share that change price once (a CDC version).
PRODUCT_LAUNCH_SHARE = 0.12
PRODUCT_REPRICE_SHARE = 0.15
# Category -> (median EUR price, tier spread): prices ~ lognormal around the median.
CATEGORIES: dict[str, tuple[float, float]] = {
    "footwear": (69.0, 0.45),
    "apparel": (39.0, 0.5),
    "outdoor": (89.0, 0.6),
    "electronics": (129.0, 0.7),
    "home": (45.0, 0.6),
    "kitchen": (35.0, 0.55),
    "beauty": (19.0, 0.45),
    "sports": (55.0, 0.55),
    "toys": (29.0, 0.5),
    "books": (14.0, 0.35),
}
# Share of refunds by category: apparel and footwear come back most (fit), a
# pattern every e-commerce returns study reports.
REFUND_SHARE: dict[str, float] = {"footwear": 0.14, "apparel": 0.16}
REFUND_SHARE_DEFAULT = 0.05
PARTIAL_REFUND_SHARE = 0.4
CANCEL_SHARE = 0.03

# --- Orders ------------------------------------------------------------------

# Store mix per market (web, app, amazon, ebay, phone). Design choice: app-heavy
# CN, marketplace-heavy US/DE, a phone desk used by B2B.
STORE_WEIGHTS: dict[str, tuple[float, float, float, float, float]] = {
    "PL": (0.50, 0.22, 0.08, 0.12, 0.08),
    "DE": (0.45, 0.15, 0.22, 0.10, 0.08),
    "BG": (0.55, 0.20, 0.05, 0.10, 0.10),
    "RU": (0.55, 0.25, 0.00, 0.05, 0.15),
    "US": (0.35, 0.15, 0.35, 0.10, 0.05),
    "CN": (0.25, 0.60, 0.05, 0.00, 0.10),
    "LV": (0.55, 0.20, 0.05, 0.10, 0.10),
}
STORES = ("web", "app", "amazon", "ebay", "phone")
# Market currency; BG adopted the euro on 2026-01-01 (orders from then on are EUR).
MARKET_CURRENCY: dict[str, str] = {
    "PL": "PLN",
    "DE": "EUR",
    "BG": "BGN",
    "RU": "RUB",
    "US": "USD",
    "CN": "CNY",
    "LV": "EUR",
}
BG_EURO_DATE = "2026-01-01"
# Share of marketplace orders of EU customers placed on a UK marketplace (GBP).
GBP_MARKETPLACE_SHARE = 0.08
# Currency units per EUR (approximate 2025 averages, for demo prices only; the
# warehouse converts with its own FX seed).
UNITS_PER_EUR: dict[str, float] = {
    "EUR": 1.0,
    "PLN": 4.27,
    "BGN": 1.95583,
    "RUB": 95.0,
    "USD": 1.09,
    "CNY": 7.85,
    "GBP": 0.85,
}
# Flat shipping per order in EUR, free above the threshold (a common shop policy).
SHIPPING_EUR = 4.99
FREE_SHIPPING_EUR = 60.0
# Basket shape: a second and a third product, the share of picks from the customer's two
# favourite categories, and of doubled quantities (design choices: most baskets hold one item).
BASKET_SECOND_ITEM_SHARE = 0.35
BASKET_THIRD_ITEM_SHARE = 0.1
FAVOURITE_CATEGORY_SHARE = 0.9
DOUBLE_QUANTITY_SHARE = 0.13
# Cross-sell / upsell propensities of a returning customer's basket.
CROSS_SELL_SHARE = 0.12
UPSELL_SHARE = 0.15

# --- Web and app carts (Segment) ---------------------------------------------

# Baymard Institute's average documented cart abandonment is about 70 %: for
# each converting cart a customer abandons ~2.3 others. Part of them come
# shortly before the purchase (and so are recovered), the rest are standalone.
RECOVERED_CART_SHARE = 0.45
ABANDON_CARTS_PER_PURCHASE = 1.45
BROWSE_SESSIONS_PER_PURCHASE = 1.2
ABANDONED_CHECKOUT_SHARE = 0.3
# Anonymous visitors who never become contacts, per customer per year.
PROSPECTS_PER_CUSTOMER_YEAR = 0.5
# Session shape: a product is viewed before it is added; a cart is viewed; an item is
# removed from an abandoned cart; a visitor comes back once more.
VIEW_BEFORE_ADD_SHARE = 0.8
CART_VIEWED_SHARE = 0.55
PRODUCT_REMOVED_SHARE = 0.15
SECOND_VISIT_SHARE = 0.35
PROSPECT_CART_SHARE = 0.45
PRE_SIGNUP_CART_SHARE = 0.6
# Devices per customer (a second, a third) and the share of phones/tablets with the app.
SECOND_DEVICE_SHARE = 0.45
THIRD_DEVICE_SHARE = 0.12
APP_INSTALLED_SHARE = 0.55
# Guest checkout: no login, the e-mail only in context.traits (Segment identify-less).
GUEST_CHECKOUT_SHARE = 0.08
TRAITS_EMAIL_AT_CHECKOUT_SHARE = 0.35
# A not-logged-in device logs in during an abandoned cart with this probability.
LOGIN_DURING_ABANDON_SHARE = 0.3
# Share of new signups browsing anonymously on the device before signing up.
PRE_SIGNUP_BROWSING_SHARE = 0.45
# Share of signups whose first order is placed in the signup session.
SIGNUP_PURCHASE_SHARE = 0.5
# Devices: market -> (desktop, mobile, tablet) shares; CN is mobile-first.
DEVICE_WEIGHTS: dict[str, tuple[float, float, float]] = {
    "CN": (0.15, 0.75, 0.10),
    "US": (0.45, 0.45, 0.10),
}
DEVICE_WEIGHTS_DEFAULT = (0.42, 0.48, 0.10)
# Late delivery window of offline events, in days (the brief: 1-5 days).
LATE_DAYS = (1.0, 5.0)
# Normal Segment ingestion latency, seconds.
RECEIVE_LATENCY = (0.05, 2.5)

# --- Support: tickets ---------------------------------------------------------

# Tickets per order by trigger: "where is my order" contacts, returns (most
# refunds start with a RETURN_REQUEST ticket), product issues; plus general
# questions per customer-year.
WISMO_SHARE = 0.04
WISMO_SHARE_LATE = 0.45
RETURN_TICKET_SHARE = 0.7
PRODUCT_ISSUE_SHARE = 0.03
GENERAL_CONTACTS_PER_YEAR = 0.45
# How a customer reaches out: issues with marketplace orders go through the marketplace;
# otherwise some pick up the phone; a share of general questions are about billing.
MARKETPLACE_TICKET_SHARE = 0.7
CALL_NOT_TICKET_SHARE = 0.3
BILLING_SHARE_OF_QUESTIONS = 0.3
# Tickets assigned to an owner when created (the rest when first answered).
ASSIGNED_AT_CREATION_SHARE = 0.6
# Channel mix of customer-initiated tickets (MARKETPLACE only for marketplace orders).
TICKET_CHANNELS: dict[str, float] = {"EMAIL": 0.42, "CHAT": 0.27, "FORM": 0.14, "SOCIAL": 0.07, "PHONE": 0.10}
# First response (minutes): lognormal (median, sigma) per channel. Orders of
# magnitude from public support benchmarks (Zendesk / SuperOffice): chat in
# minutes, e-mail in hours, social within the hour.
FIRST_RESPONSE_MINUTES: dict[str, tuple[float, float]] = {
    "CHAT": (1.8, 0.9),
    "SOCIAL": (35.0, 0.9),
    "PHONE": (12.0, 0.8),
    "EMAIL": (240.0, 1.1),
    "FORM": (300.0, 1.1),
    "MARKETPLACE": (420.0, 0.9),
}
# Resolution after the first reply (hours): lognormal (median, sigma).
RESOLUTION_HOURS: dict[str, tuple[float, float]] = {
    "CHAT": (0.4, 1.0),
    "SOCIAL": (6.0, 1.0),
    "PHONE": (3.0, 1.0),
    "EMAIL": (30.0, 1.0),
    "FORM": (36.0, 1.0),
    "MARKETPLACE": (48.0, 0.9),
}
NEVER_ANSWERED_SHARE = 0.04
NEVER_CLOSED_SHARE = 0.06
# Share of tickets whose reply moves them to "waiting on contact" (2) first.
WAITING_ON_CONTACT_SHARE = 0.3
# Share of closed tickets the customer reopens (the problem came back), and when: this many
# days after the close, uniform; the agent closes it again like a new resolution.
TICKET_REOPEN_SHARE = 0.07
TICKET_REOPEN_DAYS = (0.3, 5.0)
# SLA targets in hours, as orchestration.yaml's defaults (used only to score mood).
SLA_HOURS: dict[str, float] = {"CHAT": 0.083, "SOCIAL": 1, "EMAIL": 24, "MARKETPLACE": 24, "FORM": 24, "PHONE": 1}
SLA_RETURN_HOURS = 48.0
PRIORITY_WEIGHTS: dict[str, float] = {"LOW": 0.28, "MEDIUM": 0.47, "HIGH": 0.2, "URGENT": 0.05}

# --- Support: calls (Aircall) ------------------------------------------------

# Calls per order ("where is my order", order changes) and per customer-year. Design
# choice: enough calls that even a 2,000-customer demo shows a daily call-centre picture.
ORDER_CALL_SHARE = 0.1
GENERAL_CALLS_PER_YEAR = 0.8
# A caller who met a closed line tries again in opening hours; callbacks are answered;
# answered calls get an SMS CSAT survey.
RETRY_AFTER_CLOSED_SHARE = 0.6
CALLBACK_ANSWERED_SHARE = 0.7
CALL_CSAT_SHARE = 0.15
# "No available agent": a small base share, growing fast once utilisation passes a knee.
NO_AGENT_SHARE = 0.004
NO_AGENT_UTILISATION = 0.88
NO_AGENT_SLOPE = 3.0
# A caller uses a number the CRM does not know (work phone, a relative's phone).
UNKNOWN_NUMBER_SHARE = 0.12
# Calls from numbers of no contact at all, per customer-year (prospects, wrong numbers).
STRANGER_CALLS_PER_CUSTOMER_YEAR = 0.04
# Outcome model: short hang-ups, IVR abandons, ring-no-answer, patience.
SHORT_ABANDON_SHARE = 0.035
IVR_ABANDON_SHARE = 0.03
AGENTS_DID_NOT_ANSWER_SHARE = 0.015
# Queue wait ~ exponential with mean base * load / staffing; caller patience ~ exponential.
BASE_WAIT_SECONDS = 10.0
PATIENCE_SECONDS = 180.0
# Queue: utilisation of an average hour, its cap, and how it grows with load. The mean
# wait scales as rho / (1 - rho) (an M/M/1-style curve); workforce planning staffs busy
# hours more, so utilisation grows only with load ** QUEUE_LOAD_EXPONENT.
QUEUE_BASE_UTILISATION = 0.6
QUEUE_MAX_UTILISATION = 0.95
QUEUE_LOAD_EXPONENT = 0.3
# Share of weekend support needs that wait for Monday (people call on working days).
WEEKEND_TO_MONDAY_SHARE = 0.65
# The queue overflows ("no available agent") past this wait.
MAX_QUEUE_SECONDS = 420.0
# Talk time (seconds): lognormal (median, sigma); contact-centre averages are a few minutes.
TALK_SECONDS = (230.0, 0.6)
FIRST_CALL_RESOLUTION_SHARE = 0.74
REPEAT_AFTER_UNRESOLVED_SHARE = 0.55
REPEAT_AFTER_MISSED_SHARE = 0.6
CALLBACK_SHARE = 0.35
PHONE_TICKET_SHARE = 0.2
VOICEMAIL_SHARE = 0.3

# --- Feedback and reviews ----------------------------------------------------

POST_PURCHASE_NPS_SHARE = 0.15
CHECKOUT_CES_SHARE = 0.04
DELIVERY_CSAT_SHARE = 0.05
TICKET_CSAT_SHARE = 0.3
TICKET_CES_SHARE = 0.1
# Relationship NPS: each customer is asked once a quarter, on their own day of the
# quarter (a rolling programme, so answers flow daily), and this share answers.
RELATIONSHIP_NPS_SHARE = 0.1
RELATIONSHIP_NPS_EVERY_DAYS = 91
# Transactional NPS after a closed support ticket ("How likely ... after this contact?").
SUPPORT_NPS_SHARE = 0.1
# Share of responses whose vendor label disagrees with the score (CONTRACT: untrusted).
RESPONSE_GROUP_MISLABEL_SHARE = 0.05
SURVEY_COMMENT_SHARE = 0.45
# Reviews per order: marketplaces ask for one, own channels invite via Trustpilot.
REVIEW_SHARE: dict[str, float] = {"amazon": 0.14, "ebay": 0.11, "web": 0.08, "app": 0.06, "phone": 0.03}
# Angry customers review more: extra review probability when mood is negative.
REVIEW_SHARE_ANGRY_BONUS = 0.06
REVIEW_REFERENCE_SHARE = 0.6
REVIEW_EMAIL_SHARE = 0.35
# Share of promoters whose lifecycle stage becomes "evangelist".
EVANGELIST_SHARE = 0.1

# --- Incidents (days after start_date, length in days) ------------------------

# A week when the call centre is understaffed: waits grow, abandonment rises,
# tickets wait; the NPS drop and extra churn follow through the mood model.
UNDERSTAFFED = (18, 7, 0.38)  # start day, days, staffing factor
# A carrier failure: parcels shipped in the window arrive days late.
CARRIER_DELAY = (38, 6, (3.0, 7.0))  # start day, days, extra delivery days (uniform)

# --- Messiness ----------------------------------------------------------------

# Cap on a (entity, dt) partition's share of malformed lines (or twice the configured
# rate, if higher; see sink.py): well under the loader's default quarantine threshold
# (5 %), so a default run passes its blocking checks.
MALFORMED_MAX_PARTITION_SHARE = 0.02

# A re-sent Segment event arrives again this many seconds later (a retry).
RESEND_DELAY_SECONDS = (1.0, 6 * 3600.0)
# A re-sent CRM record or call lands in the same dt or up to this many days later.
RESEND_MAX_DAYS = 2
