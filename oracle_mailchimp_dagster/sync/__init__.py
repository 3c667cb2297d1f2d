"""Pure sync logic: map customers to members, plan one action per record, turn results into outcomes.

Nothing in this package touches the network or a database; it is tested exhaustively.
"""
