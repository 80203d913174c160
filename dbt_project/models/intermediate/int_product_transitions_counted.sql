-- From a buyer's first basket to their second, as of night D (macro
-- product_transition_counts): every pair of products that was made, counted from the
-- buyers' first two baskets (int_account_first_baskets), not from every order line.
{{ product_transition_counts(ref('int_account_first_baskets')) }}
