-- First pass of the offers (issue 17): for every account with a step tonight that may be
-- contacted, the first candidate of its campaign's own offer rule (seed
-- next_step_campaigns), from the product facts of night D (macro offer_candidates). The
-- accounts it finds nothing for get their campaign's fallback in int_accounts_offered:
-- worked out in two passes, each query holds only the candidates it needs.
with

stepped_accounts as (

    select
        account_id,
        segment,
        campaign

    from {{ ref('int_accounts_stepped') }}
    -- an offer is for outreach: none for a person whom something blocks from contact
    where campaign is not null and contact_block is null

),

campaigns as (

    select * from {{ ref('next_step_campaigns') }}

),

offer_settings as (

    select * from {{ ref('offer_settings') }}

),

account_products as (

    select * from {{ ref('int_account_products') }}

),

product_pairs as (

    select * from {{ ref('int_product_pairs_counted') }}

),

product_transitions as (

    select * from {{ ref('int_product_transitions_counted') }}

),

segments as (

    select
        account_id,
        segment

    from {{ ref('int_accounts_segmented') }}

),

wanted as (

    select
        stepped_accounts.account_id,
        stepped_accounts.segment,
        campaigns.offer_rule

    from stepped_accounts
    inner join campaigns
        on stepped_accounts.campaign = campaigns.campaign
    where campaigns.offer_rule != 'none'

),

candidates as (

    {{ offer_candidates(
        'account_products', 'product_pairs', 'product_transitions', 'segments', 'wanted',
        'offer_settings'
    ) }}

),

final as (

    select
        account_id,
        offer_rule,
        sku,
        basis_sku,
        evidence,
        evidence_total

    from candidates
    where candidate_rank = 1

)

select * from final
