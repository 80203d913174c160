with

accounts as (

    select * from {{ ref('int_accounts_segmented') }}

),

rules as (

    select * from {{ ref('customer_next_step_rules') }}

),

-- the purchase models' p_alive of the night (none without a purchase, without a usable
-- fit, or on the PostgreSQL target: a rule with p_alive_below then does not match)
predictions as (

    select
        account_id,
        p_alive

    from {{ ref('customer_predictions') }}
    where as_of_date = {{ as_of_date() }}

),

matching_rules as (

    select
        accounts.account_id,
        accounts.segment,
        rules.rule_id,
        rules.priority as rule_priority,
        rules.next_step,
        rules.reason

    from accounts
    left join predictions
        on accounts.account_id = predictions.account_id
    inner join rules
        on
            (rules.segment is null or accounts.segment = rules.segment)
            and (
                rules.account_type_equals is null
                or accounts.account_type = rules.account_type_equals
            )
            and (
                rules.account_type_not_equals is null
                or accounts.account_type != rules.account_type_not_equals
            )
            and (
                rules.autoship_active_equals is null
                or coalesce(accounts.has_active_autoship, false) = rules.autoship_active_equals
            )
            and (
                rules.purchase_history_equals is null
                or accounts.purchase_history = rules.purchase_history_equals
            )
            and (rules.p_alive_below is null or predictions.p_alive < rules.p_alive_below)
            and (
                rules.enrolled_within_days is null
                or {{ as_of_date() }} - accounts.enrolled_date <= rules.enrolled_within_days
            )

),

matches_ranked as (

    select
        *,
        row_number() over (
            partition by account_id
            order by rule_priority asc, rule_id asc
        ) as match_rank

    from matching_rules

),

final as (

    select
        account_id,
        segment,
        next_step,
        reason,
        rule_id,
        rule_priority

    from matches_ranked
    where match_rank = 1

)

select * from final
