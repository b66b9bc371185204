from celery import shared_task

from nursery.services import email_notification


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=600, max_retries=8)
def send_notification_email(notification_id: int) -> bool:
    return email_notification(notification_id=notification_id)
