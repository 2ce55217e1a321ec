"""Where a trainee turns when the assistant cannot help: the platform's customer-service line."""

HELPLINE = "4009999355"
APOLOGY = f"抱歉，系统出了点问题，请稍后再试；着急的话请拨打客服电话 {HELPLINE}。"
