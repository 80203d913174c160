-- The offer of every account with a step tonight that may be contacted (issue 17): the
-- first candidate of the campaign's offer rule (int_accounts_offered_by_rule), or of its
-- fallback when the rule finds no product (seed next_step_campaigns; macro
-- offer_candidates on the product facts of night D). offer_rule names the rule that
-- chose the product, or why there is none: `none` (the campaign offers no product),
-- `no_order_lines` (no order lines in the exports up to D), `no_offer` (neither rule
-- found a product). offer_reason is the rule's sentence (seed offer_rules), with the
-- person's own counts only: it changes when the person's offer changes, not every night.
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

offer_rules as (

    select * from {{ ref('offer_rules') }}

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

by_rule as (

    select * from {{ ref('int_accounts_offered_by_rule') }}

),

-- the campaign's fallback, for the accounts its own rule found nothing for
wanted as (

    select
        stepped_accounts.account_id,
        stepped_accounts.segment,
        campaigns.fallback_offer_rule as offer_rule

    from stepped_accounts
    inner join campaigns
        on stepped_accounts.campaign = campaigns.campaign
    left join by_rule
        on stepped_accounts.account_id = by_rule.account_id
    where
        campaigns.fallback_offer_rule is not null
        and by_rule.account_id is null

),

fallback_candidates as (

    {{ offer_candidates(
        'account_products', 'product_pairs', 'product_transitions', 'segments', 'wanted',
        'offer_settings'
    ) }}

),

chosen as (

    select * from by_rule

    union all

    select
        account_id,
        offer_rule,
        sku,
        basis_sku,
        evidence,
        evidence_total

    from fallback_candidates
    where candidate_rank = 1

),

exports_with_lines as (

    select exists(select 1 from account_products) as has_order_lines

),

offered as (

    select
        stepped_accounts.account_id,
        stepped_accounts.segment,
        chosen.sku as offer_sku,
        chosen.basis_sku,
        chosen.evidence,
        chosen.evidence_total,
        case
            when chosen.offer_rule is not null then chosen.offer_rule
            when campaigns.offer_rule = 'none' then 'none'
            when not exports_with_lines.has_order_lines then 'no_order_lines'
            else 'no_offer'
        end as offer_rule

    from stepped_accounts
    inner join campaigns
        on stepped_accounts.campaign = campaigns.campaign
    cross join exports_with_lines
    left join chosen
        on stepped_accounts.account_id = chosen.account_id

),

final as (

    select
        offered.account_id,
        offered.offer_sku,
        offered.offer_rule,
        replace(
            replace(
                replace(
                    replace(
                        replace(
                            offer_rules.reason_template,
                            '{sku}', coalesce(offered.offer_sku, '')
                        ),
                        '{basis_sku}', coalesce(offered.basis_sku, '')
                    ),
                    '{evidence}', coalesce(cast(offered.evidence as varchar), '')
                ),
                '{evidence_total}', coalesce(cast(offered.evidence_total as varchar), '')
            ),
            '{segment}', coalesce(offered.segment, '')
        ) as offer_reason

    from offered
    inner join offer_rules
        on offered.offer_rule = offer_rules.offer_rule

)

select * from final
