-- One next step per account for the night: the customer rule and the distributor rung
-- compete, and the step whose campaign has the lowest priority in the seed
-- next_step_campaigns wins (at most one campaign per person per night). Also the facts
-- that decide whether the person can hear about it today, all from night D's data alone:
-- what blocks contact (terminated, opted out, no valid e-mail, an address that is
-- terminated or opted out on another account, already converted). The touchpoint day is
-- counted in the view next_steps, from the last purchase, on every night.

with

accounts as (

    select * from {{ ref('int_accounts_snapshotted') }}

),

segmented_accounts as (

    select * from {{ ref('int_accounts_segmented') }}

),

staged_accounts as (

    select * from {{ ref('int_accounts_journey_staged') }}

),

customer_steps as (

    select * from {{ ref('int_accounts_matched_to_rules') }}

),

distributors as (

    select * from {{ ref('int_distributors_laddered') }}

),

campaigns as (

    select * from {{ ref('next_step_campaigns') }}

),

distributor_rules as (

    select * from {{ ref('distributor_ladder_rules') }}

),

-- every address of the snapshot, normalised (macro normalised_email), and whether any
-- account holding it is terminated or has not opted in: such an address is never
-- contacted, through whichever account
addresses as (

    select
        {{ normalised_email('email') }} as email_address,
        bool_or(account_status = 'terminated') as is_terminated_on_an_account,
        bool_or(not coalesce(is_email_opted_in, false)) as is_opted_out_on_an_account

    from accounts
    where {{ normalised_email('email') }} is not null
    group by {{ normalised_email('email') }}

),

candidate_steps as (

    select
        customer_steps.account_id,
        'customer' as ladder,
        customer_steps.next_step,
        customer_steps.reason,
        customer_steps.rule_id

    from customer_steps

    union all

    select
        distributors.account_id,
        'distributor' as ladder,
        distributors.ladder_step as next_step,
        distributor_rules.reason,
        distributor_rules.rule_id

    from distributors
    inner join distributor_rules
        on distributors.ladder_rule_id = distributor_rules.rule_id

),

candidate_steps_ranked as (

    select
        candidate_steps.*,
        campaigns.campaign,
        campaigns.priority as step_priority,
        row_number() over (
            partition by candidate_steps.account_id
            order by campaigns.priority asc, campaigns.campaign asc
        ) as step_rank

    from candidate_steps
    inner join campaigns
        on
            candidate_steps.ladder = campaigns.ladder
            and candidate_steps.next_step = campaigns.next_step

),

chosen_steps as (

    select * from candidate_steps_ranked
    where step_rank = 1

),

accounts_with_steps as (

    select
        accounts.account_id,
        segmented_accounts.segment,
        chosen_steps.ladder,
        chosen_steps.next_step,
        chosen_steps.campaign,
        -- files are split per campaign and this segment: the purchase-frequency segment
        -- for customer steps, the Fast Start window for distributor coaching
        case
            when chosen_steps.ladder = 'distributor' and distributors.in_fast_start
                then 'fast_start'
            when chosen_steps.ladder = 'distributor'
                then 'established'
            else segmented_accounts.segment
        end as list_segment,
        coalesce(
            chosen_steps.reason,
            'No next step tonight: no customer rule and no distributor rung matches.'
        ) as reason,
        coalesce(chosen_steps.rule_id, 'no_step') as rule_id,
        chosen_steps.step_priority,
        cast(
            {{ as_of_date() }} - segmented_accounts.last_purchase_date as bigint
        ) as days_since_last_purchase,
        accounts.account_status,
        coalesce(accounts.is_email_opted_in, false) as is_email_opted_in,
        {{ is_valid_email('accounts.email') }} as has_valid_email,
        md5(addresses.email_address) as address_key,
        coalesce(addresses.is_terminated_on_an_account, false) as is_address_terminated,
        coalesce(addresses.is_opted_out_on_an_account, false) as is_address_opted_out,
        staged_accounts.sponsored_buyers,
        accounts.sponsor_account_id,
        distributors.nearest_upline_leader_id,
        segmented_accounts.enrolled_date

    from accounts
    inner join segmented_accounts
        on accounts.account_id = segmented_accounts.account_id
    inner join staged_accounts
        on accounts.account_id = staged_accounts.account_id
    left join chosen_steps
        on accounts.account_id = chosen_steps.account_id
    left join distributors
        on accounts.account_id = distributors.account_id
    left join addresses
        on {{ normalised_email('accounts.email') }} = addresses.email_address

),

final as (

    select
        accounts_with_steps.account_id,
        accounts_with_steps.segment,
        accounts_with_steps.ladder,
        accounts_with_steps.next_step,
        accounts_with_steps.campaign,
        accounts_with_steps.list_segment,
        accounts_with_steps.reason,
        accounts_with_steps.rule_id,
        accounts_with_steps.step_priority,
        accounts_with_steps.days_since_last_purchase,
        -- why this person cannot hear about the step tonight, whatever the timing; the
        -- first that applies. Already converted: the step's conversion is visible tonight
        -- although the rules still give the step; today that is a referral candidate
        -- who already sponsored an account that purchased. The account's own facts come
        -- first, then those of another account with the same address.
        case
            when accounts_with_steps.next_step is null then null
            when accounts_with_steps.account_status = 'terminated' then 'terminated'
            when not accounts_with_steps.is_email_opted_in then 'opted_out'
            when not accounts_with_steps.has_valid_email then 'no_valid_email'
            when accounts_with_steps.is_address_terminated then 'address_terminated'
            when accounts_with_steps.is_address_opted_out then 'address_opted_out'
            when
                accounts_with_steps.ladder = 'customer'
                and accounts_with_steps.next_step = 'referral'
                and accounts_with_steps.sponsored_buyers > 0
                then 'already_converted'
        end as contact_block,
        accounts_with_steps.sponsor_account_id,
        accounts_with_steps.nearest_upline_leader_id,
        accounts_with_steps.address_key,
        -- a first_purchase step's touchpoint days count from it (view next_steps)
        accounts_with_steps.enrolled_date

    from accounts_with_steps

)

select * from final
