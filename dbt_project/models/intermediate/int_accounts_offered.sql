-- The offer of every account with a step tonight (issue 17): the campaign's offer rule
-- (seed next_step_campaigns), or its fallback when the rule finds no product, applied to
-- the product facts of night D (macro offer_candidates). offer_rule names the rule that
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
    where campaign is not null

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

order_lines as (

    select * from {{ ref('int_order_lines_resolved') }}

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

-- the campaign's rule first, then its fallback
campaign_rules as (

    select
        campaign,
        offer_rule,
        1 as preference

    from campaigns

    union all

    select
        campaign,
        fallback_offer_rule as offer_rule,
        2 as preference

    from campaigns
    where fallback_offer_rule is not null

),

wanted as (

    select
        stepped_accounts.account_id,
        stepped_accounts.segment,
        campaign_rules.offer_rule,
        campaign_rules.preference

    from stepped_accounts
    inner join campaign_rules
        on stepped_accounts.campaign = campaign_rules.campaign
    where campaign_rules.offer_rule != 'none'

),

candidates as (

    {{ offer_candidates(
        'order_lines', 'product_pairs', 'product_transitions', 'segments', 'wanted',
        'offer_settings'
    ) }}

),

chosen as (

    select
        wanted.account_id,
        candidates.offer_rule,
        candidates.sku,
        candidates.basis_sku,
        candidates.evidence,
        candidates.evidence_total,
        row_number() over (
            partition by wanted.account_id order by wanted.preference
        ) as choice_rank

    from wanted
    inner join candidates
        on
            wanted.account_id = candidates.account_id
            and wanted.offer_rule = candidates.offer_rule
    where candidates.candidate_rank = 1

),

exports_with_lines as (

    select exists(select 1 from order_lines) as has_order_lines

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
        on
            stepped_accounts.account_id = chosen.account_id
            and chosen.choice_rank = 1

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
