"""The WeChat Official Account channel (公众号): signed XML pushes in (plain or safe mode) through a
durable inbox, answers out as customer-service messages; wechatpy for signatures, crypto, parsing."""
