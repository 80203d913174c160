-- Each account's products as of night D (issue 17, macro account_products): per account
-- and product bought or returned, the days bought, units, first and last day, whether it
-- opened the account's first basket, whether it was returned. What the offers read.
{{ account_products(ref('int_order_lines_resolved')) }}
