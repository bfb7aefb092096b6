function requestWebhook(user, context, callback) {
  const request = require('request');
  request.post({ url: configuration.CRM_URL + '/logins', json: { user_id: user.user_id, client: context.clientID } }, (err) => {
    callback(err || null, user, context);
  });
}
